"""The events database: schema, migrations and every query (components never write SQL)."""
