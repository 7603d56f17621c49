import { sql, type Kysely } from 'kysely';

/** Who changed what, and when: every operator change (admin API and command line). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table admin_audit (
    id bigint generated always as identity primary key,
    at timestamptz not null default clock_timestamp(),
    actor text not null,
    action text not null,
    target_type text not null,
    target_id text,
    details jsonb
  )`.execute(db);
  await sql`create index admin_audit_at on admin_audit (at)`.execute(db);
  await sql`create index admin_audit_target on admin_audit (target_type, target_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table admin_audit`.execute(db);
}
