import t from 'tap'
import { loadConfig } from '../src/config.ts'
import { startApp, PASSWORD } from './helpers/app.ts'

t.test('production refuses to start without a JWT secret; short secrets and bad values are refused', async (t) => {
  t.throws(() => loadConfig({ NODE_ENV: 'production' }), /JWT_SECRET must be set/)
  t.throws(() => loadConfig({ JWT_SECRET: 'short' }), /at least 32/)
  t.throws(() => loadConfig({ PORT: 'eighty' }), /PORT/)
  t.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /postgresql/)
  t.throws(() => loadConfig({ ADMIN_USERNAME: 'root' }), /together/)
  t.match(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }), { production: true, port: 3000, host: '127.0.0.1' })
})

t.test('the bootstrap admin is created once and can log in', async (t) => {
  const api = await startApp(t, 'pglite', { bootstrapAdmin: { username: 'root', password: PASSWORD } })
  t.match(await api.app.db.user.findUnique({ where: { username: 'root' } }), { role: 'admin' })
  const login = await api.request({ method: 'POST', url: '/api/auth/login', payload: { username: 'root', password: PASSWORD } })
  t.equal(login.statusCode, 200)
  const users = await api.request({ url: '/api/admin/users', headers: { authorization: `Bearer ${login.json().accessToken}` } })
  t.equal(users.statusCode, 200)
})
