import sys
from ruamel.yaml import YAML
y = YAML(); p = y.load(open("params.yaml"))
p["data"]["path"] = "/work/shared/data/commonlit/train.csv"
p["train"]["epochs"] = int(sys.argv[2]); p["train"]["max_length"] = int(sys.argv[3]); p["train"]["eval_every"] = int(sys.argv[4])
p["train"]["save_checkpoint"] = False
y.dump(p, open(sys.argv[1], "w"))
