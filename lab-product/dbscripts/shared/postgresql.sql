-- obiam-run lab stand-in: the shared datasource's schema (postgresql). Our own minimal tables in the
-- product's naming style; the first table (REG_RESOURCE) is the one the stand-in reads at start.
-- Run once by the database play; it is not idempotent on purpose (a second run must not happen).

CREATE TABLE REG_RESOURCE (
  REG_PATH_ID SERIAL,
  REG_NAME VARCHAR(256),
  REG_VERSION INTEGER,
  REG_TENANT_ID INTEGER,
  PRIMARY KEY (REG_PATH_ID)
);

CREATE TABLE REG_PATH (
  REG_PATH_ID SERIAL,
  REG_PATH_VALUE VARCHAR(895),
  REG_TENANT_ID INTEGER,
  PRIMARY KEY (REG_PATH_ID)
);

CREATE TABLE REG_CLUSTER_LOCK (
  REG_LOCK_NAME VARCHAR(20) NOT NULL,
  REG_LOCK_STATUS VARCHAR(20),
  REG_LOCKED_TIME TIMESTAMP,
  PRIMARY KEY (REG_LOCK_NAME)
);
