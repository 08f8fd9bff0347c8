// Starts the raw-SQL baseline (bench/baselines/raw-sql-app.ts) for npm run bench.
import pg from 'pg'
import { buildRawSql } from './raw-sql-app.ts'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 })
const app = await buildRawSql(pool, process.env.JWT_SECRET!)
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => pool.end())
    .then(() => process.exit(0))
})
