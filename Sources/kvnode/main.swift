print("kvnode placeholder")
