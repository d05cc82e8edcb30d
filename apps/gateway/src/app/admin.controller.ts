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
import { AuditQueryDto, SetRolesBodyDto, Subjects } from '@baton/contracts';
import type { AuditEventView, UserView } from '@baton/contracts';
import { BatonClient, RevocationStore, Roles } from '@baton/auth';

const uuid = new ParseUUIDPipe({ version: '4' });

@Roles('admin')
@Controller('admin')
export class AdminController {
  constructor(
    private readonly client: BatonClient,
    private readonly revocations: RevocationStore,
  ) {}

  @Put('users/:id/roles')
  async setRoles(@Param('id', uuid) id: string, @Body() dto: SetRolesBodyDto): Promise<UserView> {
    return this.client.send(Subjects.auth.admin.setRoles, { id, roles: dto.roles });
  }

  @HttpCode(204)
  @Post('users/:id/revoke')
  async revoke(@Param('id', uuid) id: string): Promise<void> {
    const { revocationSeq } = await this.client.send<{ revocationSeq: number }>(
      Subjects.auth.admin.revokeUser,
      { id },
    );
    await this.revocations.waitForSequence(revocationSeq);
  }

  @Get('audit')
  audit(@Query() query: AuditQueryDto): Promise<AuditEventView[]> {
    return this.client.send(Subjects.auth.admin.audit, query);
  }

  @Post('keys/rotate')
  rotate(): Promise<{ kid: string }> {
    return this.client.send(Subjects.auth.admin.rotateKeys, {});
  }
}
