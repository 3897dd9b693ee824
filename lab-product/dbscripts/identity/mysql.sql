-- obiam-run lab stand-in: the identity datasource's schema (mysql). Our own minimal tables in the
-- product's naming style; the first table (IDN_OAUTH_CONSUMER_APPS) is the one the stand-in reads at start.
-- Run once by the database play; it is not idempotent on purpose (a second run must not happen).

CREATE TABLE IDN_OAUTH_CONSUMER_APPS (
  ID INTEGER NOT NULL AUTO_INCREMENT,
  CONSUMER_KEY VARCHAR(255),
  APP_NAME VARCHAR(255),
  TENANT_ID INT,
  PRIMARY KEY (ID)
) ENGINE=INNODB;

CREATE TABLE IDN_OAUTH2_ACCESS_TOKEN (
  TOKEN_ID VARCHAR(255) NOT NULL,
  CONSUMER_KEY_ID INT,
  TOKEN_STATE VARCHAR(25),
  TIME_CREATED TIMESTAMP NULL DEFAULT NULL,
  PRIMARY KEY (TOKEN_ID)
) ENGINE=INNODB;

CREATE TABLE IDN_AUTH_SESSION_STORE (
  SESSION_ID VARCHAR(100) NOT NULL,
  SESSION_TYPE VARCHAR(100),
  TIME_CREATED BIGINT,
  PRIMARY KEY (SESSION_ID)
) ENGINE=INNODB;
