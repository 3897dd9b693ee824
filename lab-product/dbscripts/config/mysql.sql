-- obiam-run lab stand-in: the config datasource's schema (mysql). Our own minimal tables in the
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

CREATE TABLE IDN_CONFIG_TYPE (
  ID VARCHAR(255) NOT NULL,
  NAME VARCHAR(255),
  DESCRIPTION VARCHAR(1023),
  PRIMARY KEY (ID)
) ENGINE=INNODB;
