import 'reflect-metadata';
import { startNatsService } from '@baton/auth';
import { AuthAppModule } from './app/auth-app.module';

void startNatsService('auth', AuthAppModule).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
