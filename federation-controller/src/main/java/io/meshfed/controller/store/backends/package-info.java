/** The registry of store backends: the one place a configured location picks SQLite or PostgreSQL. */
package io.meshfed.controller.store.backends;
