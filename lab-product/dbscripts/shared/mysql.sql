-- obiam-run lab stand-in: the shared datasource's schema (mysql). Our own minimal tables in the
-- product's naming style; the first table (REG_RESOURCE) is the one the stand-in reads at start.
-- Run once by the database play; it is not idempotent on purpose (a second run must not happen).

CREATE TABLE REG_RESOURCE (
  REG_PATH_ID INTEGER NOT NULL AUTO_INCREMENT,
  REG_NAME VARCHAR(256),
  REG_VERSION INT,
  REG_TENANT_ID INT,
  PRIMARY KEY (REG_PATH_ID)
) ENGINE=INNODB;

CREATE TABLE REG_PATH (
  REG_PATH_ID INTEGER NOT NULL AUTO_INCREMENT,
  REG_PATH_VALUE VARCHAR(895),
  REG_TENANT_ID INT,
  PRIMARY KEY (REG_PATH_ID)
) ENGINE=INNODB;

CREATE TABLE REG_CLUSTER_LOCK (
  REG_LOCK_NAME VARCHAR(20) NOT NULL,
  REG_LOCK_STATUS VARCHAR(20),
  REG_LOCKED_TIME TIMESTAMP NULL DEFAULT NULL,
  PRIMARY KEY (REG_LOCK_NAME)
) ENGINE=INNODB;
