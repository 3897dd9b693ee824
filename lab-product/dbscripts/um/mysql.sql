-- obiam-run lab stand-in: the um datasource's schema (mysql). Our own minimal tables in the
-- product's naming style; the first table (UM_TENANT) is the one the stand-in reads at start.
-- Run once by the database play; it is not idempotent on purpose (a second run must not happen).

CREATE TABLE UM_TENANT (
  UM_ID INTEGER NOT NULL AUTO_INCREMENT,
  UM_DOMAIN_NAME VARCHAR(255),
  UM_ACTIVE BOOLEAN,
  PRIMARY KEY (UM_ID)
) ENGINE=INNODB;

CREATE TABLE UM_USER (
  UM_ID INTEGER NOT NULL AUTO_INCREMENT,
  UM_USER_NAME VARCHAR(255),
  UM_TENANT_ID INT,
  PRIMARY KEY (UM_ID)
) ENGINE=INNODB;

CREATE TABLE UM_ROLE (
  UM_ID INTEGER NOT NULL AUTO_INCREMENT,
  UM_ROLE_NAME VARCHAR(255),
  UM_TENANT_ID INT,
  PRIMARY KEY (UM_ID)
) ENGINE=INNODB;

INSERT INTO UM_TENANT (UM_ID, UM_DOMAIN_NAME, UM_ACTIVE) VALUES (-1234, 'carbon.super', TRUE);
