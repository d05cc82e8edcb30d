import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { startNatsService } from '@baton/auth';
import { AuthAppModule } from './app/auth-app.module';
import { LocalJwksSource } from './app/keys/local-key.sources';

void startNatsService('auth', AuthAppModule)
  .then((app) =>
    app
      .get(LocalJwksSource)
      .announceKeyMadeAtStart()
      .catch((err: unknown) =>
        new Logger('auth').warn(
          `could not announce the new signing key: ${err instanceof Error ? err.message : String(err)}`,
        ),
      ),
  )
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
