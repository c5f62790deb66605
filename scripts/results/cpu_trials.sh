# What is left to try on the CPU (issue: study throughput): an allocator (tcmalloc, jemalloc from Debian) and
# torch.compile, against the plain step, at the default layout's 2 threads. Each setting is one fresh process;
# the settings alternate (order reversed on the second pass) so drift falls on all alike. Usage:
#   bash scripts/results/cpu_trials.sh ../shared/data/commonlit/train.csv docs/results/cpu_trials.jsonl
set -eu
data=$1 out=$2
lib=/usr/lib/x86_64-linux-gnu
trial() {  # tag, LD_PRELOAD, extra args
  LD_PRELOAD=$2 python scripts/results/step_timing.py --data "$data" --threads 2 --steps 10 --tag "$1" --out "$out" ${3:-}
}
for pass in 1 2; do
  order="plain tcmalloc jemalloc compile"
  [ $pass = 2 ] && order="compile jemalloc tcmalloc plain"
  for t in $order; do
    case $t in
      plain) trial "plain, pass $pass" "" ;;
      tcmalloc) trial "tcmalloc, pass $pass" $lib/libtcmalloc_minimal.so.4 ;;
      jemalloc) trial "jemalloc, pass $pass" $lib/libjemalloc.so.2 ;;
      compile) trial "torch.compile, pass $pass" "" --compile ;;
    esac
  done
done
