/** The demand side: who lives where (residences, population, access points). */
export * from './access.js';
export * from './build.js';
export * from './compound-list.js';
export * from './defaults.js';
export * from './distribute.js';
export * from './predicate.js';
export * from './table.js';
export { CsvSyntaxError, decodeText, parseCsv, type CsvRecords, type DecodedText, type TextEncodingName } from '../text-table.js';
