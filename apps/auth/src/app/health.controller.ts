import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Subjects } from '@baton/contracts';
import type { HealthView } from '@baton/contracts';
import { Public } from '@baton/auth';
import { storeAnswers } from '@baton/persistence';

@Controller()
export class HealthController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Public()
  @MessagePattern(Subjects.auth.health)
  async health(): Promise<HealthView> {
    const db = await storeAnswers(this.dataSource);
    return { status: db ? 'ok' : 'error', service: 'auth', checks: { database: db ? 'up' : 'down' } };
  }
}
