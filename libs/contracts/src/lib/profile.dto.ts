import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { IsWellFormed } from './well-formed.validator';

export class UpdateProfileDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @IsWellFormed()
  displayName?: string;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  @IsWellFormed()
  shippingAddress?: string;
}

export class GetProfileDto {
  /** Absent: the caller's own profile. Another user's profile needs the admin role. */
  @IsOptional()
  @IsUUID('4', { message: 'userId must be a UUID' })
  userId?: string;
}

export interface ProfileView {
  userId: string;
  displayName: string | null;
  shippingAddress: string | null;
  updatedAt: string;
}
