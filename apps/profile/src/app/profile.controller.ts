import { Controller } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import {
  Events,
  GetProfileDto,
  Subjects,
  UpdateProfileDto,
  UserRegisteredEvent,
} from '@baton/contracts';
import type { ProfileView } from '@baton/contracts';
import { CurrentUser, Roles } from '@baton/auth';
import type { Principal } from '@baton/auth';
import { ProfileErrorCode, ProfileException } from './profile.exception';
import { ProfileService } from './profile.service';

const ownerOf = (user: Principal): string => {
  if (user.sub.startsWith('svc:')) {
    throw new ProfileException(ProfileErrorCode.NotAUser);
  }
  return user.sub;
};

@Controller()
export class ProfileController {
  constructor(private readonly profiles: ProfileService) {}

  @Roles('user', 'admin')
  @MessagePattern(Subjects.profile.get)
  get(@CurrentUser() user: Principal, @Payload() dto: GetProfileDto): Promise<ProfileView> {
    if (dto.userId === undefined || dto.userId === user.sub) {
      return this.profiles.own(ownerOf(user));
    }
    if (!user.roles.includes('admin')) {
      throw new ProfileException(ProfileErrorCode.AdminOnly);
    }
    return this.profiles.get(dto.userId);
  }

  @Roles('user', 'admin')
  @MessagePattern(Subjects.profile.update)
  update(@CurrentUser() user: Principal, @Payload() dto: UpdateProfileDto): Promise<ProfileView> {
    return this.profiles.update(ownerOf(user), dto);
  }

  @Roles('service')
  @EventPattern(Events.userRegistered)
  async userRegistered(@Payload() event: UserRegisteredEvent): Promise<void> {
    await this.profiles.created(event.userId, event.displayName);
  }
}
