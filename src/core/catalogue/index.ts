/** Public surface of the function catalogue: registry announcements and the bounded, verified index. */
export {
  Catalogue, type CatalogueHost, type CatalogueOptions, type CatalogueFunction, type CatalogueStats
} from './catalogue.ts'
export { FunctionIndex, summarizeAccess, type CatalogueEntry, type CataloguePage, type AccessSummary } from './function-index.ts'
export { RegistryAnnouncer, REGISTRIES_PROTOCOL, type RegistryAnnouncement } from './registry-announce.ts'
