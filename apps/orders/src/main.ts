import 'reflect-metadata';
import { startNatsService } from '@baton/auth';
import { OrdersAppModule } from './app/orders-app.module';

void startNatsService('orders', OrdersAppModule).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
