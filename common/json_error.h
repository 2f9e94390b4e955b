// The reason part of a nlohmann::json parse error, for one-line messages that name the file and
// position themselves: what() reads "[json.exception.parse_error.101] parse error at line 1,
// column 21: syntax error while parsing value - unexpected end of input; expected '[', '{', or a
// literal", and this returns the text after the position.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace sharelab {

inline std::string json_error_reason(const nlohmann::json::exception& e) {
  const std::string what = e.what();
  const size_t colon = what.find(": ");
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

}  // namespace sharelab
