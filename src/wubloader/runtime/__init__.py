"""Shared process infrastructure (config, logging, metrics, serving, backdoor); no domain logic here."""
