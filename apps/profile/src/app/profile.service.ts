import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { ProfileView, UpdateProfileDto } from '@baton/contracts';
import { Sql } from '@baton/persistence';
import { ProfileEntity } from './profile.entity';
import { ProfileErrorCode, ProfileException } from './profile.exception';

@Injectable()
export class ProfileService {
  /** The read on every request (orders asks for the address of each order placed). */
  private readonly byUserId: (userId: string) => Promise<ProfileEntity | undefined>;

  constructor(
    @InjectRepository(ProfileEntity) private readonly profiles: Repository<ProfileEntity>,
  ) {
    this.byUserId = new Sql(profiles.manager.connection).finder(ProfileEntity, ['userId']);
  }

  /** The user's profile, created empty on first use (so a missed registration event loses nothing). */
  async own(userId: string): Promise<ProfileView> {
    return this.map(await this.ensure(userId));
  }

  async get(userId: string): Promise<ProfileView> {
    const profile = await this.byUserId(userId);
    if (!profile) {
      throw new ProfileException(ProfileErrorCode.NotFound);
    }
    return this.map(profile);
  }

  async update(userId: string, dto: UpdateProfileDto): Promise<ProfileView> {
    const profile = await this.ensure(userId);
    if (dto.displayName !== undefined) {
      profile.displayName = dto.displayName;
    }
    if (dto.shippingAddress !== undefined) {
      profile.shippingAddress = dto.shippingAddress;
    }
    profile.updatedAt = new Date();
    await this.profiles.update(
      { userId },
      {
        displayName: profile.displayName,
        shippingAddress: profile.shippingAddress,
        updatedAt: profile.updatedAt,
      },
    );
    return this.map(profile);
  }

  /** Creates the profile of a newly registered user; a repeated event changes nothing. */
  async created(userId: string, displayName?: string): Promise<void> {
    await this.profiles
      .createQueryBuilder()
      .insert()
      .values(this.blank(userId, displayName))
      .orIgnore()
      .execute();
  }

  private async ensure(userId: string): Promise<ProfileEntity> {
    const existing = await this.byUserId(userId);
    if (existing) {
      return existing;
    }
    await this.created(userId);
    return (await this.byUserId(userId)) as ProfileEntity;
  }

  private blank(userId: string, displayName?: string): ProfileEntity {
    const now = new Date();
    return this.profiles.create({
      userId,
      displayName: displayName ?? null,
      shippingAddress: null,
      createdAt: now,
      updatedAt: now,
    });
  }

  private map(p: ProfileEntity): ProfileView {
    return {
      userId: p.userId,
      displayName: p.displayName,
      shippingAddress: p.shippingAddress,
      updatedAt: new Date(p.updatedAt).toISOString(),
    };
  }
}
