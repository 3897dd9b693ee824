-- obiam-run lab stand-in: the apim datasource's schema (mysql). Our own minimal tables in the
-- product's naming style; the first table (AM_APPLICATION) is the one the stand-in reads at start.
-- Run once by the database play; it is not idempotent on purpose (a second run must not happen).

CREATE TABLE AM_APPLICATION (
  APPLICATION_ID INTEGER NOT NULL AUTO_INCREMENT,
  NAME VARCHAR(100),
  SUBSCRIBER_ID INT,
  UUID VARCHAR(256),
  PRIMARY KEY (APPLICATION_ID)
) ENGINE=INNODB;

CREATE TABLE AM_SUBSCRIBER (
  SUBSCRIBER_ID INTEGER NOT NULL AUTO_INCREMENT,
  USER_ID VARCHAR(255),
  TENANT_ID INT,
  PRIMARY KEY (SUBSCRIBER_ID)
) ENGINE=INNODB;

CREATE TABLE AM_API (
  API_ID INTEGER NOT NULL AUTO_INCREMENT,
  API_NAME VARCHAR(100),
  API_VERSION VARCHAR(30),
  CONTEXT VARCHAR(256),
  PRIMARY KEY (API_ID)
) ENGINE=INNODB;
