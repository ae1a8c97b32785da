"""The edit API: events, templates and authentication over the events database."""
