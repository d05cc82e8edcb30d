import { InitialOrdersSchema1732300000002 } from './1732300000002-initial-orders-schema';
import { OrderReadIndexes1795410072317 } from './1795410072317-order-read-indexes';

/** The orders store's migrations, oldest first. */
export const ORDERS_MIGRATIONS = [InitialOrdersSchema1732300000002, OrderReadIndexes1795410072317];
