import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { IsStorableText } from './well-formed.validator';

export class UpdateProfileDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @IsStorableText()
  displayName?: string;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  @IsStorableText()
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
