// The gradient dump: it loads back with the article's names and shapes, holds exactly the tape's
// gradients for exactly that sample and those weights, and refuses what it cannot describe.
#include <stdlib.h>

#include <filesystem>
#include <string>

#include <boost/test/unit_test.hpp>

#include <stepgrad/nn/crosscheck.hpp>
#include <stepgrad/nn/deltas.hpp>
#include <stepgrad/nn/dump.hpp>
#include "common/check.hpp"
#include "common/digits.hpp"
#include "common/temp_dir.hpp"

using namespace stepgrad;
using stepgrad::testing::TempDir;
namespace fs = std::filesystem;

namespace {
std::vector<std::string> names_of(const std::vector<NpzEntry>& entries) {
  std::vector<std::string> names;
  for (const NpzEntry& e : entries) names.push_back(e.name);
  return names;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(dump)

BOOST_AUTO_TEST_CASE(a_dump_loads_back_with_the_articles_names_shapes_and_the_tapes_gradients) {
  TempDir dir("dump");
  Network net;
  const testing::Sample s = testing::synthetic_sample(21);
  const fs::path path = dir.path() / "grads.npz";
  write_gradient_dump(path, net, s.x, s.y);
  const std::vector<NpzEntry> loaded = load_npz(path);

  const std::vector<std::string> want{"X",   "Y",   "W0",  "W1", "W2",
                                      "gW0", "gW1", "gW2", "C",  "options"};
  BOOST_TEST(names_of(loaded) == want, boost::test_tools::per_element());
  BOOST_TEST(testing::identical(require_tensor(loaded, "X", Shape::vector(784), "d"), s.x));
  BOOST_TEST(testing::identical(require_tensor(loaded, "Y", Shape::vector(10), "d"), s.y));
  BOOST_TEST(
      testing::identical(require_tensor(loaded, "W0", Shape::matrix(128, 784), "d"), net.W0.value));
  BOOST_TEST(
      testing::identical(require_tensor(loaded, "W1", Shape::matrix(64, 128), "d"), net.W1.value));
  BOOST_TEST(
      testing::identical(require_tensor(loaded, "W2", Shape::matrix(10, 64), "d"), net.W2.value));
  BOOST_TEST(require_string(loaded, "options", "d") == net.options().describe());

  // The gradients are the tape's, bit for bit, and equal the hand-derived Deltas (eq. 11).
  Network fresh;
  Tape tape;
  tape_gradients(tape, fresh, s.x, s.y);
  const Deltas d = backward_pass(fresh, forward_pass(fresh, s.x), s.y, Recipe::fixed);
  const Tensor& gW0 = require_tensor(loaded, "gW0", Shape::matrix(128, 784), "d");
  const Tensor& gW1 = require_tensor(loaded, "gW1", Shape::matrix(64, 128), "d");
  const Tensor& gW2 = require_tensor(loaded, "gW2", Shape::matrix(10, 64), "d");
  BOOST_TEST(testing::identical(gW0, fresh.W0.grad()));
  BOOST_TEST(testing::identical(gW1, fresh.W1.grad()));
  BOOST_TEST(testing::identical(gW2, fresh.W2.grad()));
  BOOST_TEST(testing::close(gW0, d.Delta0, 1e-12, 0.0, "gW0", "Delta0"));
  BOOST_TEST(testing::close(gW1, d.Delta1, 1e-12, 0.0, "gW1", "Delta1"));
  BOOST_TEST(testing::close(gW2, d.Delta2, 1e-12, 0.0, "gW2", "Delta2"));
  BOOST_TEST(require_tensor(loaded, "C", Shape::scalar(), "d").item() ==
             cross_entropy(forward_pass(fresh, s.x).Z3, s.y));
}

BOOST_AUTO_TEST_CASE(the_same_sample_and_weights_give_byte_identical_dumps) {
  Network a, b;
  const testing::Sample s = testing::synthetic_sample(22);
  BOOST_TEST(save_npz_bytes(gradient_dump(a, s.x, s.y)) ==
             save_npz_bytes(gradient_dump(b, s.x, s.y)));
}

BOOST_AUTO_TEST_CASE(with_biases_the_dump_holds_them_and_their_gradients) {
  Network net(NetworkOptions{.bias = true});
  const testing::Sample s = testing::synthetic_sample(23);
  const std::vector<NpzEntry> entries = gradient_dump(net, s.x, s.y);
  const std::vector<std::string> want{"X",   "Y",   "W0",  "W1",  "W2",  "b0",  "b1", "b2",
                                      "gW0", "gW1", "gW2", "gb0", "gb1", "gb2", "C",  "options"};
  BOOST_TEST(names_of(entries) == want, boost::test_tools::per_element());
  const Deltas d = backward_pass(net, forward_pass(net, s.x), s.y, Recipe::fixed);
  BOOST_TEST(testing::close(std::get<Tensor>(find_entry(entries, "gb0")->value), d.delta1, 1e-12,
                            0.0, "gb0", "delta1"));
}

BOOST_AUTO_TEST_CASE(a_minibatch_or_a_wrong_shape_is_refused_before_any_file_is_written) {
  TempDir dir("dump");
  Network net;
  const testing::Sample s = testing::synthetic_sample(24);
  const fs::path path = dir.path() / "grads.npz";
  BOOST_CHECK_THROW(write_gradient_dump(path, net, Tensor::zeros(784, 2), Tensor::zeros(10, 2)),
                    ShapeError);
  BOOST_CHECK_THROW(write_gradient_dump(path, net, Tensor::zeros(700), s.y), ShapeError);
  BOOST_CHECK_THROW(write_gradient_dump(path, net, s.x, Tensor::zeros(9)), ShapeError);
  BOOST_TEST(!fs::exists(path));
}

BOOST_AUTO_TEST_CASE(a_dump_into_a_missing_folder_fails_with_the_files_name) {
  TempDir dir("dump");
  Network net;
  const testing::Sample s = testing::synthetic_sample(25);
  const fs::path path = dir.path() / "no-such-folder" / "grads.npz";
  try {
    write_gradient_dump(path, net, s.x, s.y);
    BOOST_FAIL("write_gradient_dump into a missing folder did not throw");
  } catch (const ModelFileError& e) {
    BOOST_TEST(std::string(e.what()).find("grads.npz") != std::string::npos, e.what());
  }
  BOOST_TEST(!fs::exists(path));
}

BOOST_AUTO_TEST_SUITE_END()
