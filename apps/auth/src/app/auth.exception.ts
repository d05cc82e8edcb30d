import { DomainException } from '@baton/auth';

export enum AuthErrorCode {
  EmailTaken = 'EMAIL_TAKEN',
  InvalidCredentials = 'INVALID_CREDENTIALS',
  InvalidRefreshToken = 'INVALID_REFRESH_TOKEN',
  RefreshTokenReused = 'REFRESH_TOKEN_REUSED',
  UserNotFound = 'USER_NOT_FOUND',
  TooManyAttempts = 'TOO_MANY_ATTEMPTS',
  TooManyRegistrations = 'TOO_MANY_REGISTRATIONS',
  InvalidServiceCredentials = 'INVALID_SERVICE_CREDENTIALS',
  Unauthenticated = 'UNAUTHENTICATED',
}

const statusOf: Record<AuthErrorCode, number> = {
  [AuthErrorCode.EmailTaken]: 409,
  [AuthErrorCode.InvalidCredentials]: 401,
  [AuthErrorCode.InvalidRefreshToken]: 401,
  [AuthErrorCode.RefreshTokenReused]: 401,
  [AuthErrorCode.UserNotFound]: 404,
  [AuthErrorCode.TooManyAttempts]: 429,
  [AuthErrorCode.TooManyRegistrations]: 429,
  [AuthErrorCode.InvalidServiceCredentials]: 401,
  [AuthErrorCode.Unauthenticated]: 401,
};

const defaultMessage: Record<AuthErrorCode, string> = {
  [AuthErrorCode.EmailTaken]: 'An account with this email already exists',
  [AuthErrorCode.InvalidCredentials]: 'Invalid email or password',
  [AuthErrorCode.InvalidRefreshToken]: 'Refresh token is invalid, expired or revoked',
  [AuthErrorCode.RefreshTokenReused]: 'Refresh token is invalid, expired or revoked',
  [AuthErrorCode.UserNotFound]: 'User not found',
  [AuthErrorCode.TooManyAttempts]: 'Too many failed attempts; try again later',
  [AuthErrorCode.TooManyRegistrations]: 'Too many registrations from this address; try again later',
  [AuthErrorCode.InvalidServiceCredentials]: 'Invalid service credentials',
  [AuthErrorCode.Unauthenticated]: 'Invalid or missing access token',
};

export class AuthException extends DomainException<AuthErrorCode> {
  constructor(code: AuthErrorCode, message = defaultMessage[code], retryAfter?: number) {
    super(code, statusOf[code], message, retryAfter);
  }
}
