/** Options of `nx g @baton/tools:service` (schema.json). */
export interface ServiceGeneratorSchema {
  name: string;
}
