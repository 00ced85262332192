print("kvbench placeholder")
