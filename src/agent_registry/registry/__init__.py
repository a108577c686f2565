"""The registry database: sqlmodel tables, store functions, engine set-up and migrations.

Import what you need from the modules (``tables``, ``store``, ``db``, ``errors``); this
package imports nothing itself so that importing it never touches a database.
"""
