// Model files: save -> load is bit-exact and predicts bit-identically (R15 in docs/reliability.md),
// loading refuses every kind of wrong file with its own message (R14), saves are deterministic
// (R19).
#include <cmath>
#include <filesystem>
#include <fstream>

#include <boost/test/unit_test.hpp>

#include <stepgrad/io/npz.hpp>
#include <stepgrad/io/output_set.hpp>
#include <stepgrad/nn/model.hpp>
#include <stepgrad/nn/train.hpp>
#include "common/check.hpp"
#include "common/digits.hpp"
#include "common/temp_dir.hpp"

using namespace stepgrad;
using stepgrad::testing::TempDir;
namespace fs = std::filesystem;

namespace {
std::string error_of(const fs::path& p) {
  try {
    load_model(p);
  } catch (const ModelFileError& e) {
    return e.what();
  }
  return "";
}

std::vector<char> bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

const std::string kOptions = "recipe=fixed engine=tape epochs=1 lr=0.001 batch=1 shuffle=false ";
}  // namespace

BOOST_AUTO_TEST_SUITE(model)

BOOST_AUTO_TEST_CASE(save_then_load_is_bit_exact_and_predicts_the_same) {
  TempDir dir("model");
  for (const NetworkOptions& opt :
       {NetworkOptions{},
        NetworkOptions{.bias = true, .activation = Activation::tanh, .seed = 7}}) {
    Network net(opt);
    const Subset data = testing::synthetic_digits(200, 1);
    TrainOptions o;
    o.network = opt;
    o.lr = 0.05;
    Trainer(net, o).run_epoch(data, data.first(0), 1);  // trained weights, nonzero biases
    const fs::path file = dir.path() / "model.npz";
    save_model(file, net, kOptions + opt.describe());
    const Model m = load_model(file);
    BOOST_TEST(m.network.options() == opt);
    BOOST_TEST(m.options == kOptions + opt.describe());
    BOOST_TEST(m.network.parameters().size() == net.parameters().size());
    for (std::size_t k = 0; k < net.parameters().size(); ++k) {
      BOOST_TEST(testing::identical(m.network.parameters()[k]->value, net.parameters()[k]->value));
    }
    const Evaluation a = evaluate(net, data);
    const Evaluation b = evaluate(m.network, data);
    BOOST_TEST(a.predicted == b.predicted, boost::test_tools::per_element());
    BOOST_TEST(a.cost == b.cost);
  }
}

BOOST_AUTO_TEST_CASE(the_same_model_saves_to_the_same_bytes) {
  TempDir dir("model");
  const Network net;
  save_model(dir.path() / "a.npz", net, kOptions + net.options().describe());
  save_model(dir.path() / "b.npz", net, kOptions + net.options().describe());
  BOOST_TEST((bytes_of(dir.path() / "a.npz") == bytes_of(dir.path() / "b.npz")));
}

BOOST_AUTO_TEST_CASE(wrong_files_are_refused_with_their_own_message) {
  TempDir dir("model");
  const Network net;
  const std::string opts = kOptions + net.options().describe();
  auto write = [&](const std::string& name, std::vector<NpzEntry> entries) {
    save_npz(dir.path() / name, entries);
    return dir.path() / name;
  };
  const NpzEntry w0{"W0", net.W0.value}, w1{"W1", net.W1.value}, w2{"W2", net.W2.value},
      op{"options", opts};

  BOOST_TEST(error_of(write("shape.npz", {{"W0", Tensor::zeros(128, 700)}, w1, w2, op}))
                 .find("array W0 has shape (128, 700), the network needs (128, 784)") !=
             std::string::npos);
  BOOST_TEST(error_of(write("missing.npz", {w0, w1, op})).find("W2") != std::string::npos);
  BOOST_TEST(error_of(write("extra.npz", {w0, w1, w2, {"b0", Tensor::zeros(128)}, op}))
                 .find("unexpected array b0") != std::string::npos);
  BOOST_TEST(error_of(write("no-options.npz", {w0, w1, w2})).find("options") != std::string::npos);
  BOOST_TEST(error_of(write("bad-options.npz",
                            {w0,
                             w1,
                             w2,
                             {"options",
                              std::string("bias=maybe activation=sigmoid init=fan-out seed=1")}}))
                 .find("bias=maybe") != std::string::npos);
  BOOST_TEST(error_of(write("no-bias.npz",
                            {w0,
                             w1,
                             w2,
                             {"options",
                              std::string("bias=true activation=sigmoid init=fan-out seed=42")}}))
                 .find("b0") != std::string::npos);
  Tensor nan_w2 = net.W2.value;
  nan_w2(3, 4) = std::nan("");
  BOOST_TEST(!error_of(write("nan.npz", {w0, w1, {"W2", nan_w2}, op})).empty());

  const fs::path good = write("good.npz", {w0, w1, w2, op});
  const std::vector<char> bytes = bytes_of(good);
  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
    std::ofstream(dir.path() / "cut.npz", std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(cut));
    BOOST_TEST(!error_of(dir.path() / "cut.npz").empty(), "truncated at " << cut);
  }
  BOOST_TEST(!error_of(dir.path() / "no-such-file.npz").empty());
  BOOST_TEST(error_of(good).empty());
}

BOOST_AUTO_TEST_CASE(the_options_line_is_strict_and_errors_name_the_key_and_the_file) {
  // R28: an unknown value or a repeated key is refused, not read as a default or the last value.
  TempDir dir("model");
  const Network net;
  const NpzEntry w0{"W0", net.W0.value}, w1{"W1", net.W1.value}, w2{"W2", net.W2.value};
  const std::string network = net.options().describe();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"recipe=fixed split=bogus " + network, "split 'bogus': choose article or standard"},
      {"dataset=bogus " + network, "dataset 'bogus': choose mnist or fashion"},
      {"seed=7 " + network, "'seed=' appears twice"},
      {"split=article split=standard " + network, "'split=' appears twice"},
      {"novalue " + network, "'novalue' is not key=value"},
  };
  for (const auto& [line, want] : cases) {
    const fs::path file = dir.path() / "model.npz";
    save_npz(file, std::vector<NpzEntry>{w0, w1, w2, {"options", line}});
    std::string message;
    try {
      (void)load_model(file);
    } catch (const ModelFileError& e) {
      message = e.what();
    }
    BOOST_TEST(message.starts_with(file.string() + ": "), message);  // the whole path
    BOOST_TEST(message.find(want) != std::string::npos, message);
  }
  const OptionsLine kv = parse_options_line("recipe=fixed  split=article " + network);
  BOOST_TEST(kv.at("split") == "article");
  BOOST_TEST(kv.size() == 6u);
}

BOOST_AUTO_TEST_CASE(an_options_line_with_control_characters_is_refused) {
  // Printed as it is, "\n\x1b[2K  accuracy: 0.9999" would fake lines of 11_evaluate.
  TempDir dir("model");
  const Network net;
  const NpzEntry w0{"W0", net.W0.value}, w1{"W1", net.W1.value}, w2{"W2", net.W2.value};
  const std::string network = net.options().describe();
  for (const std::string& fake : {std::string("\naccuracy: 0.9999"), std::string("\x1b[2K"),
                                  std::string("\r"), std::string("\x7f")}) {
    const fs::path file = dir.path() / "model.npz";
    save_npz(file, std::vector<NpzEntry>{w0, w1, w2, {"options", network + " note=" + fake}});
    const std::string message = error_of(file);
    BOOST_TEST(message.starts_with(file.string() + ": options: a control character (byte 0x"),
               message);
    BOOST_TEST(message.find('\n') == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_model_its_manifest_lists_with_other_bytes_is_refused) {
  // Note [One set of outputs]: the model of a run that did not finish, beside an older manifest.
  TempDir dir("model");
  const Network net;
  const fs::path file = dir.path() / "model.npz";
  std::string run;
  {
    OutputSet set(dir.path(), {"model.npz"});
    save_model(set.path("model.npz"), net, kOptions + net.options().describe());
    set.commit();
    run = set.run_id();
  }
  BOOST_TEST(error_of(file).empty());
  NetworkOptions seed2;
  seed2.seed = 2;
  const Network other(seed2);
  save_model(file, other, kOptions + other.options().describe());  // a run killed before commit
  BOOST_TEST(error_of(file) == file.string() + ": not the file run " + run + " of test_nn wrote (" +
                                   (dir.path() / "MANIFEST").string() +
                                   " lists other bytes): a later run did not finish, or it was "
                                   "changed since");
  fs::copy_file(file, dir.path() / "copy.npz");  // a file the manifest does not list: no claim
  BOOST_TEST(error_of(dir.path() / "copy.npz").empty());
}

BOOST_AUTO_TEST_CASE(a_failed_save_leaves_nothing_behind) {
  TempDir dir("model");
  const Network net;
  BOOST_CHECK_THROW(
      save_model(dir.path() / "missing-folder" / "model.npz", net, net.options().describe()),
      ModelFileError);
  BOOST_TEST(fs::is_empty(dir.path()));
  BOOST_CHECK_THROW(save_model(dir.path() / "m.npz", net, "recipe=fixed"),
                    std::invalid_argument);  // no network options
}

BOOST_AUTO_TEST_CASE(network_options_parse_from_the_options_line) {
  const NetworkOptions o =
      parse_network_options("recipe=article bias=true activation=relu init=fan-in seed=9 epochs=5");
  BOOST_TEST(o.bias);
  BOOST_TEST(o.activation == Activation::relu);
  BOOST_TEST(o.init == InitScale::fan_in);
  BOOST_TEST(o.seed == 9u);
  BOOST_CHECK_THROW(parse_network_options("bias=true activation=relu init=fan-in"),
                    std::invalid_argument);
  BOOST_CHECK_THROW(parse_network_options("bias=true activation=relu init=fan-in seed=-1"),
                    std::invalid_argument);
  BOOST_CHECK_THROW(parse_network_options("bias=true activation=relu init=fan-in seed=99999999999"),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
