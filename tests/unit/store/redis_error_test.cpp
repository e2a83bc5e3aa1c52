#include <doctest/doctest.h>

#include "store/redis_connection.hpp"

using conduit::store::passingErrorCode;

TEST_CASE("redis errors: Redis unable to serve for now passes - whatever the wording") {
  CHECK(passingErrorCode("OOM command not allowed when used memory > 'maxmemory'.") == "OOM");
  CHECK(passingErrorCode("READONLY You can't write against a read only replica.") == "READONLY");
  CHECK(passingErrorCode("LOADING Redis is loading the dataset in memory") == "LOADING");
  // Redis 7 keeps a script's error code first.
  CHECK(passingErrorCode("OOM command not allowed when used memory > 'maxmemory'. script: "
                         "f_1a2b, on @user_script:12.") == "OOM");
  // Redis 6.2 wraps it.
  CHECK(passingErrorCode("ERR Error running script (call to f_1a2b3c): @user_script:12: "
                         "@user_script: 12: -OOM command not allowed when used memory > "
                         "'maxmemory'. ") == "OOM");
  CHECK(passingErrorCode("ERR Error running script (call to f_1a2b3c): @user_script:3: "
                         "@user_script: 3: -READONLY You can't write against a read only "
                         "replica. ") == "READONLY");
}

TEST_CASE("redis errors: other errors do not pass - a script's own words are not read as codes") {
  CHECK(passingErrorCode("ERR wrong number of arguments for 'xadd' command").empty());
  CHECK(passingErrorCode("WRONGTYPE Operation against a key holding the wrong kind of value")
            .empty());
  CHECK(passingErrorCode("NOSCRIPT No matching script. Please use EVAL.").empty());
  CHECK(passingErrorCode("ERR Error running script (call to f_1): @user_script:1: "
                         "@user_script: 1: -WRONGTYPE Operation against a key")
            .empty());
  CHECK(passingErrorCode("ERR bad value -OOM here").empty());
}
