import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { IsStorableText } from './well-formed.validator';

export class UserRegisteredEvent {
  @IsUUID('4')
  userId: string;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  @IsStorableText()
  displayName?: string;
}

export interface KeysRotatedEvent {
  kid: string;
}

export interface RevokedEvent {
  kind: 'jti' | 'sid';
  id: string;
}
