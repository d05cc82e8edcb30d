import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { IsWellFormed } from './well-formed.validator';

export class UserRegisteredEvent {
  @IsUUID('4')
  userId: string;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  @IsWellFormed()
  displayName?: string;
}

export interface KeysRotatedEvent {
  kid: string;
}

export interface RevokedEvent {
  kind: 'jti' | 'sid';
  id: string;
}
