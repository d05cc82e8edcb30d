export { serviceGenerator, validateServiceName } from './generators/service/service.generator';
export type { ServiceGeneratorSchema } from './generators/service/schema';
