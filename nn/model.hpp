// Model files: the network's weights (and biases) in a numpy .npz that `numpy.load` opens as
// is, with the options they were trained with. Saving is atomic (R16 in docs/reliability.md);
// loading validates every array against the network its options describe (R14) and never runs code
// (no pickle).
#pragma once

#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include <stepgrad/io/npz.hpp>
#include <stepgrad/nn/network.hpp>

namespace stepgrad {

/// A loaded model: the network, and the options line it was saved with.
struct Model {
  Network network;
  std::string options;  ///< "recipe=fixed engine=tape ... bias=false activation=sigmoid ..."
};

/// Writes W0, W1, W2 (and b0, b1, b2 with biases) as float64 arrays in C order, and `options`
/// as the string array "options", which must include the network's own options
/// (NetworkOptions::describe()). Atomic: the old file survives any failure.
void save_model(const std::filesystem::path& path, const Network& net, std::string_view options);

/// Reads a model written by save_model. Throws ModelFileError (one line naming the file, the
/// array and what is wrong) for any corrupt file, missing or unexpected array, shape that does
/// not fit the network, or NaN/Inf weight.
Model load_model(const std::filesystem::path& path);

/// The model held by already-parsed .npz entries (what load_model does after reading the file;
/// the fuzz harness calls it directly). `file` names the file in messages.
Model model_from_entries(std::span<const NpzEntry> entries, std::string_view file);

/// A model's options line, "key=value key=value", as a map.
using OptionsLine = std::map<std::string, std::string, std::less<>>;
/// Parses an options line strictly: every word is key=value and no key appears twice
/// (std::invalid_argument naming the word or the key, R28).
OptionsLine parse_options_line(std::string_view line);

/// The network options in a "key=value key=value" line (bias, activation, init, seed);
/// throws std::invalid_argument naming a missing or malformed key.
NetworkOptions parse_network_options(std::string_view line);

}  // namespace stepgrad
