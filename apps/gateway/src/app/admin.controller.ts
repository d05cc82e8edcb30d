import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { AuditQueryDto, SetRolesBodyDto, Subjects } from '@baton/contracts';
import type { AuditEventView, UserView } from '@baton/contracts';
import { BatonClient, RevocationStore, Roles } from '@baton/auth';
import { ApiAdmin, ApiErrors } from './openapi/api-docs.decorators';
import { NoBody } from './no-body.decorator';
import { AuditEventViewSchema, RotatedKeySchema, UserViewSchema } from './openapi/views.schema';

const uuid = new ParseUUIDPipe({ version: '4' });

@ApiTags('admin')
@ApiAdmin()
@ApiErrors(503)
@Roles('admin')
@Controller('admin')
export class AdminController {
  constructor(
    private readonly client: BatonClient,
    private readonly revocations: RevocationStore,
  ) {}

  @ApiOperation({ summary: "Set a user's roles; the user's existing tokens are revoked" })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: UserViewSchema })
  @ApiErrors(400, [404, 'No such user'])
  @Put('users/:id/roles')
  async setRoles(@Param('id', uuid) id: string, @Body() dto: SetRolesBodyDto): Promise<UserView> {
    return this.client.send(Subjects.auth.admin.setRoles, { id, roles: dto.roles });
  }

  @ApiOperation({ summary: "Revoke all of a user's sessions" })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({ description: "The user's sessions and their access tokens are revoked" })
  @ApiErrors([400, 'id is not a UUID, or the request has a body'], [404, 'No such user'])
  @HttpCode(204)
  @Post('users/:id/revoke')
  async revoke(@Param('id', uuid) id: string, @NoBody() _body: void): Promise<void> {
    const { revocationSeq } = await this.client.send<{ revocationSeq: number }>(
      Subjects.auth.admin.revokeUser,
      { id },
    );
    await this.revocations.waitForSequence(revocationSeq);
  }

  @ApiOperation({
    summary: 'Audit events, newest first',
    description:
      'Each event names its subject (`userId`) and its actor (`actorId`): the verified caller ' +
      'who caused it, such as the admin who changed roles, revoked a user or rotated the keys. ' +
      'The filters combine.',
  })
  @ApiOkResponse({ type: [AuditEventViewSchema] })
  @ApiErrors(400)
  @Get('audit')
  audit(@Query() query: AuditQueryDto): Promise<AuditEventView[]> {
    return this.client.send(Subjects.auth.admin.audit, query);
  }

  @ApiOperation({
    summary:
      'Sign new tokens with a new key; tokens signed with the old one stay valid until they expire',
  })
  @ApiCreatedResponse({ type: RotatedKeySchema })
  @ApiErrors([400, 'The request has a body'])
  @Post('keys/rotate')
  rotate(@NoBody() _body: void): Promise<{ kid: string }> {
    return this.client.send(Subjects.auth.admin.rotateKeys, {});
  }
}
