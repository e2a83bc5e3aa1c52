#pragma once

#include <string>
#include <vector>

namespace conduit::statemachine::hcl {

// Where something stands in its file: 1-based line and column (in bytes).
struct Position {
  int line = 1;
  int column = 1;
};

// An expression of the subset of HCL the state files use: literals, tuples and objects.
struct Value;

struct ObjectItem;

struct Value {
  enum class Kind { kString, kNumber, kBool, kNull, kTuple, kObject };

  Kind kind = Kind::kNull;
  std::string text;  // kString: the decoded string; kNumber: the literal as written
  bool boolean = false;
  std::vector<Value> items;         // kTuple
  std::vector<ObjectItem> members;  // kObject, in the order written
  Position position;

  // For messages: "a string", "a number", "an object", ...
  const char* kindName() const;
};

struct ObjectItem {
  std::string key;
  Value value;
  Position position;  // of the key
};

struct Attribute {
  std::string name;
  Value value;
  Position position;  // of the name
};

struct Block;

// The inside of a file or a block: attributes and blocks, in the order written.
struct Body {
  std::vector<Attribute> attributes;
  std::vector<Block> blocks;
};

struct Block {
  std::string type;  // the identifier before the labels: provisioner, state, ...
  std::vector<std::string> labels;
  std::vector<Position> label_positions;
  Body body;
  Position position;  // of the type
};

}  // namespace conduit::statemachine::hcl
