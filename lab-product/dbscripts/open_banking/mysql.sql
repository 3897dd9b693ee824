-- obiam-run lab stand-in: the open_banking datasource's schema (mysql). Our own minimal tables in the
-- product's naming style; the first table (OB_CONSENT) is the one the stand-in reads at start.
-- Run once by the database play; it is not idempotent on purpose (a second run must not happen).

CREATE TABLE OB_CONSENT (
  CONSENT_ID VARCHAR(255) NOT NULL,
  CLIENT_ID VARCHAR(255),
  CONSENT_TYPE VARCHAR(64),
  CURRENT_STATUS VARCHAR(64),
  CREATED_TIME BIGINT,
  PRIMARY KEY (CONSENT_ID)
) ENGINE=INNODB;

CREATE TABLE OB_CONSENT_AUTH_RESOURCE (
  AUTH_ID VARCHAR(255) NOT NULL,
  CONSENT_ID VARCHAR(255),
  AUTH_STATUS VARCHAR(255),
  USER_ID VARCHAR(255),
  PRIMARY KEY (AUTH_ID)
) ENGINE=INNODB;

CREATE TABLE OB_CONSENT_MAPPING (
  MAPPING_ID VARCHAR(255) NOT NULL,
  AUTH_ID VARCHAR(255),
  ACCOUNT_ID VARCHAR(255),
  MAPPING_STATUS VARCHAR(255),
  PRIMARY KEY (MAPPING_ID)
) ENGINE=INNODB;
