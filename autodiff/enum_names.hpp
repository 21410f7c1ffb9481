// Named enums: one table per enum (EnumNames<E>) gives its names to to_string, to parsing, to
// printing and to the command line's list of choices, so a new value is one line in one place.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace stepgrad {

/// Specialise for an enum E: `static constexpr std::array<std::pair<std::string_view, E>, N>
/// values{{{"sigmoid", E::sigmoid}, ...}};`, in the order the choices are listed.
template <class E>
struct EnumNames;

template <class E>
concept NamedEnum = requires {
  EnumNames<E>::values;
};

/// The enum's name in the table ("sigmoid").
template <NamedEnum E>
constexpr std::string_view to_string(E value) {
  for (const auto& [name, v] : EnumNames<E>::values) {
    if (v == value) return name;
  }
  return "?";
}

/// "sigmoid, tanh or relu".
template <NamedEnum E>
std::string enum_choices() {
  std::string out;
  const auto& values = EnumNames<E>::values;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += i + 1 == values.size() ? " or " : ", ";
    out += values[i].first;
  }
  return out;
}

/// The value named `text`; std::invalid_argument "what 'text': choose sigmoid, tanh or relu".
template <NamedEnum E>
E parse_enum(std::string_view text, std::string_view what) {
  for (const auto& [name, v] : EnumNames<E>::values) {
    if (name == text) return v;
  }
  throw std::invalid_argument(fmt::format("{} '{}': choose {}", what, text, enum_choices<E>()));
}

/// Name -> value, as CLI11's CheckedTransformer takes it.
template <NamedEnum E>
std::map<std::string, E> enum_map() {
  std::map<std::string, E> m;
  for (const auto& [name, v] : EnumNames<E>::values) m.emplace(name, v);
  return m;
}

template <NamedEnum E>
std::ostream& operator<<(std::ostream& os, E value) {
  return os << to_string(value);
}

}  // namespace stepgrad
