#!/bin/sh
echo "The native Prisma schema engine is not used by this project: run 'npm run db:migrate' (WASM engine) instead." >&2
exit 1
