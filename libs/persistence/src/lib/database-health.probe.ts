import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { storeAnswers } from './data-source';

/** Health of a service's own store, for its health subject. */
@Injectable()
export class DatabaseHealthProbe {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async check(): Promise<Record<string, boolean>> {
    return { database: await storeAnswers(this.dataSource) };
  }
}
