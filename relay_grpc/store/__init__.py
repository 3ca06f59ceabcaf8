"""Relay persistence: database and blob storage."""
