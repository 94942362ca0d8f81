/** What the SQL stores share: the tables' reads and writes and a transaction's compare-and-set, in portable SQL. */
package io.meshfed.controller.store.jdbc;
