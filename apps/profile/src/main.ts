import 'reflect-metadata';
import { startNatsService } from '@baton/auth';
import { ProfileAppModule } from './app/profile-app.module';

void startNatsService('profile', ProfileAppModule).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
