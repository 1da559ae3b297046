// The private PostgreSQL server lives beside the benchmarks (bench/ is built, test/ is not):
// tests and `npm run bench -- store` start it the same way.
export { freePort, postgresMissing, startPostgres, type TestPostgres } from "../../bench/postgres.js";
