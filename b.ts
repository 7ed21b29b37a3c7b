import { benchConversion } from './bench/conversion';
benchConversion();
