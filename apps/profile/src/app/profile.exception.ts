import { DomainException } from '@baton/auth';

export enum ProfileErrorCode {
  NotFound = 'PROFILE_NOT_FOUND',
  AdminOnly = 'ADMIN_ONLY',
  NotAUser = 'NOT_A_USER',
}

const statusOf: Record<ProfileErrorCode, number> = {
  [ProfileErrorCode.NotFound]: 404,
  [ProfileErrorCode.AdminOnly]: 403,
  [ProfileErrorCode.NotAUser]: 400,
};

const messageOf: Record<ProfileErrorCode, string> = {
  [ProfileErrorCode.NotFound]: 'Profile not found',
  [ProfileErrorCode.AdminOnly]: "Reading another user's profile needs the admin role",
  [ProfileErrorCode.NotAUser]: 'Only users have profiles',
};

export class ProfileException extends DomainException<ProfileErrorCode> {
  constructor(code: ProfileErrorCode) {
    super(code, statusOf[code], messageOf[code]);
  }
}
