import type { Prisma, PrismaClient } from '../generated/prisma/client.ts'

// A model's Prisma delegate by its subject name (`Project` → `db.project`), typed by the calls
// this layer makes, which are the same on every model.

type Row = Record<string, unknown>

export interface AnyDelegate {
  findUnique(args: object): Promise<Row | null>
  findMany(args: object): Promise<Row[]>
  count(args: object): Promise<number>
  create(args: object): Promise<Row>
  update(args: object): Promise<Row>
  delete(args: object): Promise<Row>
}

export function delegate(db: PrismaClient | Prisma.TransactionClient, subject: string): AnyDelegate {
  return (db as unknown as Record<string, AnyDelegate>)[subject[0]!.toLowerCase() + subject.slice(1)]!
}
