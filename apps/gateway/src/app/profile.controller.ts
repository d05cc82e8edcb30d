import { Body, Controller, Get, Param, ParseUUIDPipe, Patch } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Subjects, UpdateProfileDto } from '@baton/contracts';
import type { ProfileView } from '@baton/contracts';
import { BatonClient, Roles } from '@baton/auth';
import { ApiAdmin, ApiErrors, ApiSignedIn } from './openapi/api-docs.decorators';
import { ProfileViewSchema } from './openapi/views.schema';

@ApiTags('profile')
@ApiErrors(503)
@Controller()
export class ProfileController {
  constructor(private readonly client: BatonClient) {}

  @ApiOperation({ summary: "The caller's profile" })
  @ApiOkResponse({ type: ProfileViewSchema })
  @ApiSignedIn()
  @Get('profile/me')
  me(): Promise<ProfileView> {
    return this.client.send(Subjects.profile.get, {});
  }

  @ApiOperation({ summary: "Change the caller's display name or shipping address" })
  @ApiOkResponse({ type: ProfileViewSchema })
  @ApiSignedIn()
  @ApiErrors(400)
  @Patch('profile/me')
  update(@Body() dto: UpdateProfileDto): Promise<ProfileView> {
    return this.client.send(Subjects.profile.update, dto);
  }

  @ApiOperation({ summary: "Any user's profile" })
  @ApiParam({ name: 'userId', format: 'uuid' })
  @ApiOkResponse({ type: ProfileViewSchema })
  @ApiAdmin()
  @ApiErrors([400, 'userId is not a UUID'], [404, 'No such profile'])
  @Roles('admin')
  @Get('profiles/:userId')
  get(@Param('userId', new ParseUUIDPipe({ version: '4' })) userId: string): Promise<ProfileView> {
    return this.client.send(Subjects.profile.get, { userId });
  }
}
