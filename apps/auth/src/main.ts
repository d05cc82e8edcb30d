import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { startNatsService } from '@baton/auth';
import { AuthAppModule } from './app/auth-app.module';
import { KeyRotation } from './app/keys/key-rotation.service';
import { LocalJwksSource } from './app/keys/local-key.sources';

void startNatsService('auth', AuthAppModule)
  .then(async (app) => {
    await app
      .get(LocalJwksSource)
      .announceKeyMadeAtStart()
      .catch((err: unknown) =>
        new Logger('auth').warn(
          `could not announce the new signing key: ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
    // once auth answers, so that the services can fetch the key a rotation announces
    app.get(KeyRotation).startSchedule();
  })
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
